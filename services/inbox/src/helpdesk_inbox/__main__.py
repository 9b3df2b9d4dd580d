from helpdesk_inbox.app import main

main()
