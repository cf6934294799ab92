"""What the off-chain tiers share about the chain: EIP-712 types, roles, deployments."""
