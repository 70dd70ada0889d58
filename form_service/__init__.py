"""Request for Information service: shared core, public intake and staff review desk."""
