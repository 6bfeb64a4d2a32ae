"""`zerobus doctor`: checks a Zerobus setup one step at a time and names the fix for each failure."""

from zerobus.doctor.report import CheckResult, DoctorSettings, run_checks

__all__ = ["CheckResult", "DoctorSettings", "run_checks"]
