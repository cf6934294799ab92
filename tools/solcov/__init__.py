"""Solidity line and branch coverage of the Ape test suites (see docs/auditing.md).

ape-solidity 0.8.6 implements neither `init_coverage_profile` nor `trace_source`, so
`ape test --coverage` finds nothing to report for Solidity on any provider. This package measures
coverage itself: `hits` is a pytest plugin that records every program counter the in-process EVM
(py-evm, Ape's test provider) executes and every JUMPI outcome; `build` compiles the contracts
exactly as ape-config.yaml does and reads statements and decisions from the AST; `report` maps
one onto the other through solc's source maps and prints per-contract figures and an lcov file.
"""
