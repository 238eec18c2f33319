//! `identity` (VEID): encrypted identity scopes, verification status, scores and tiers.
