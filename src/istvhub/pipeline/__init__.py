"""The main job: build, ingest, geocode, publish, in one command."""
