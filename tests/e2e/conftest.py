from ..gateway.conftest import start_gateway  # noqa: F401 - the same fixture
