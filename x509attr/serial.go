package x509attr

import (
	"encoding/hex"
	"math/big"
)

// SerialHex is the serial number as lower-case hex, left-padded with 0 to
// an even number of digits (0x0123 → "0123"), the form AWS uses in role
// session names and ID= source identities. Negative serials (invalid, but
// parseable) are rendered by magnitude; nil or zero is "00".
func SerialHex(serial *big.Int) string {
	if serial == nil || serial.Sign() == 0 {
		return "00"
	}
	return hex.EncodeToString(new(big.Int).Abs(serial).Bytes())
}
