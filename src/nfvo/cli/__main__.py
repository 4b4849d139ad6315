"""``python -m nfvo.cli``."""

from nfvo.cli.main import main

main()
