// One MongoDB user per service, each limited to the helpdesk database (readWrite there, nothing
// anywhere else): a leaked service password cannot read other databases or administer the
// server. Run by the mongo image once, on the first start with an empty data volume.
//
// Passwords: MONGO_PASSWORD_<SERVICE> (e.g. MONGO_PASSWORD_GATEWAY) or the file named by
// MONGO_PASSWORD_<SERVICE>_FILE (a compose/Docker secret). The services connect with
// mongodb://helpdesk-<service>:<password>@mongodb:27017/<db>?replicaSet=rs0&authSource=<db>.
const fs = require("fs");

const dbName = process.env.HELPDESK_MONGO_DB || "helpdesk";
const helpdesk = db.getSiblingDB(dbName);

function secret(variable) {
  const file = process.env[`${variable}_FILE`];
  const value = file ? fs.readFileSync(file, "utf8").trim() : process.env[variable];
  if (!value) {
    throw new Error(`set ${variable} or ${variable}_FILE`);
  }
  return value;
}

for (const service of ["gateway", "auth", "mailer", "inbox", "janitor"]) {
  const user = `helpdesk-${service}`;
  const password = secret(`MONGO_PASSWORD_${service.toUpperCase()}`);
  if (helpdesk.getUser(user) === null) {
    helpdesk.createUser({ user, pwd: password, roles: [{ role: "readWrite", db: dbName }] });
  } else {
    helpdesk.updateUser(user, { pwd: password, roles: [{ role: "readWrite", db: dbName }] });
  }
  print(`helpdesk: MongoDB user ${user} limited to database ${dbName}`);
}
