"""The clearinghouse intake over HTTP: the CyberTipline Reporting API under /ispws, with HTTP
basic auth per reporting company. Mounted only when [clearinghouse] enabled is set."""

from vigil.api.intake.gate import IntakeGate
from vigil.api.intake.routes import INTAKE_PREFIX, router

__all__ = ["INTAKE_PREFIX", "IntakeGate", "router"]
