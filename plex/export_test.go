package plex

// CompareDecodersForTest is compareDecoders (decode_fast_test.go) for the
// tests of package plex_test, which may use plexsim.
var CompareDecodersForTest = compareDecoders

// ParseRetryAfterForTest is parseRetryAfter.
var ParseRetryAfterForTest = parseRetryAfter
