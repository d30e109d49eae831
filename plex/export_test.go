package plex

// CompareDecodersForTest is compareDecoders (decode_fast_test.go) for the
// tests of package plex_test, which may use plexsim.
var CompareDecodersForTest = compareDecoders

// ParseRetryAfterForTest is parseRetryAfter.
var ParseRetryAfterForTest = parseRetryAfter

// SessionsBufForTest is the storage Sessions keeps for its next call.
func SessionsBufForTest(c *Client) []byte {
	if p := c.sessionsBuf.Load(); p != nil {
		return *p
	}
	return nil
}
