//! placeholder

pub mod replay;
