from loyalchat.cli import main

main()
