// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";

/// @title MockPriceFeed
/// @notice A Chainlink-style feed whose rounds tests set by hand.
contract MockPriceFeed is IAggregatorV3 {
    uint8 public immutable decimals;
    uint80 public latestRound;
    mapping(uint80 round => int256) public answers;
    mapping(uint80 round => uint256) public updatedAts;

    constructor(uint8 decimals_) {
        decimals = decimals_;
    }

    /// @notice Publish a new round with `answer`, updated at `updatedAt`.
    function push(int256 answer, uint256 updatedAt) external {
        latestRound += 1;
        answers[latestRound] = answer;
        updatedAts[latestRound] = updatedAt;
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        uint80 r = latestRound;
        return (r, answers[r], updatedAts[r], updatedAts[r], r);
    }

    function getRoundData(uint80 r) external view returns (uint80, int256, uint256, uint256, uint80) {
        return (r, answers[r], updatedAts[r], updatedAts[r], r);
    }
}
