"""The OpenStack VIM driver (Nova, Neutron, Glance, Placement through openstacksdk)."""
