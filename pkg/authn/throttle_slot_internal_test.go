package authn

import (
	"strings"
	"testing"
)

// keySlot is a Redis Cluster's slot of key, as the cluster specification
// defines it: CRC16 (XMODEM) of the key's hash tag, the first non-empty
// {…}, or of the whole key, modulo 16384.
func keySlot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

// TestThrottleKeysShareASlot: each script's keys land in one slot of a
// cluster, whatever the username (braces and all) and address; else the
// cluster answers CROSSSLOT. The cluster itself is tried in
// TestThrottleOnCluster.
func TestThrottleKeysShareASlot(t *testing.T) {
	// The specification's own examples.
	for key, want := range map[string]int{"123456789": 0x31C3 % 16384, "foo": 12182, "{user1000}.following": keySlot("user1000"), "foo{}{bar}": keySlot("foo{}{bar}")} {
		if got := keySlot(key); got != want {
			t.Fatalf("slot of %q = %d, want %d", key, got, want)
		}
	}
	th := &Throttle{}
	for _, c := range []struct{ user, ip string }{
		{"alice", "192.0.2.1"},
		{"bob", "2001:db8::1"},
		{"{evil}", "198.51.100.7"},
		{strings.Repeat("长", 70), "203.0.113.9"},
	} {
		for name, keys := range map[string][]string{"admit": th.keys(c.user, c.ip), "noted": notedKeys(c.user, c.ip)} {
			for _, k := range keys[1:] {
				if keySlot(k) != keySlot(keys[0]) {
					t.Errorf("%s keys of %q from %s: %q in slot %d, %q in %d", name, c.user, c.ip, keys[0], keySlot(keys[0]), k, keySlot(k))
				}
			}
		}
	}
}
