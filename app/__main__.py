"""`python -m app …` is `thidua …` (dev up starts its worker and API this way)."""

from app.cli import main

main()
