from jacode.cli import app

app()
