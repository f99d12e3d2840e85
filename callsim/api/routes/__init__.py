"""The API's routers, one per resource; ``callsim.api.app`` includes them."""
