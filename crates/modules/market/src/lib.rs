//! market (in progress)
