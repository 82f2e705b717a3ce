// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CreditRecord, ScoreFactors} from "../interfaces/ICreditRegistry.sol";
import {CreditScore} from "../libraries/CreditScore.sol";

/// @notice Test double: the credit score formula over any record, for the property tests that
///         compare it with its Python twin.
contract CreditScoreHarness {
    function score(CreditRecord memory r) external pure returns (uint256, ScoreFactors memory) {
        return CreditScore.scoreOf(r);
    }
}
