from helpdesk_mailer.app import main

main()
