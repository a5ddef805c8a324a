package tollgate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header that carries a Tollgate signature, on
// provider pushes to Tollgate and on Tollgate's webhooks to parties.
const SignatureHeader = "Tollgate-Signature"

// SignatureTolerance is how far a signature's timestamp may be from now.
const SignatureTolerance = 5 * time.Minute

// Sign returns the Tollgate-Signature value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under secret>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(signatureMAC(secret, ts, body))
}

func signatureMAC(secret, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return mac.Sum(nil)
}

// VerifySignature checks a Tollgate-Signature value against every secret
// (a rotated secret stays valid for a grace period) and returns the v1
// digest, which identifies the request for replay protection. Errors are
// CodeUnauthorized with a reason the sender can act on.
func VerifySignature(header string, body []byte, secrets []string, now time.Time) (string, error) {
	bad := func(why string) (string, error) {
		return "", Errorf(CodeUnauthorized, "%s: %s", SignatureHeader, why)
	}
	if header == "" {
		return bad("header missing; send t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">")
	}
	var ts, v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v1 == "" {
		return bad("must look like t=<unix seconds>,v1=<hex digest>")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > SignatureTolerance || d < -SignatureTolerance {
		return bad("timestamp outside the 5-minute tolerance; sign with the current time")
	}
	got, err := hex.DecodeString(v1)
	if err != nil {
		return bad("v1 is not hex")
	}
	for _, secret := range secrets {
		if hmac.Equal(signatureMAC(secret, ts, body), got) {
			// Canonical lower-case hex: the same signature in another
			// case must not pass replay protection as a new one.
			return hex.EncodeToString(got), nil
		}
	}
	return bad("does not match the body with any valid secret of this sender")
}
