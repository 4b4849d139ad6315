"""Catalog: onboarding of SOL004 VNF packages and SOL007 NSD packages,
SOL001 TOSCA parsing, typed descriptors."""
