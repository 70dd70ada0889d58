"""`python -m form_service.cli ...`: the same as the `form-service` console command."""

from form_service.cli import main

main()
