from eventreg import create_app

app = create_app()
