//! Normalisation of SQL statements, key/value commands and URLs into shapes.
