from helpdesk_janitor.app import main

main()
