from helpdesk_auth.app import main

main()
