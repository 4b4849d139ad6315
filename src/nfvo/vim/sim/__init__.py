"""The built-in simulated VIM: a first-class driver with capacity, zones, faults and state."""

from nfvo.vim.sim.config import SimConfig, parse_sim_config
from nfvo.vim.sim.driver import SimVim

__all__ = ["SimConfig", "SimVim", "parse_sim_config"]
