"""Payment gateways: PayFiP (web-service mode) and the embedded simulator."""

from .payfip import PayfipGateway
from .simulator import SimulatorGateway

__all__ = ["PayfipGateway", "SimulatorGateway"]
