from helpdesk_admin.cli import main

main()
