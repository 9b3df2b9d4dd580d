from helpdesk_gateway.app import main

main()
