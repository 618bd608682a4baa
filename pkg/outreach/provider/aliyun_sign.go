package provider

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Aliyun's RPC-style APIs (Dysms, Dyvms) sign requests with "Signature
// Version 1.0" (HMAC-SHA1), which their Go SDKs implement and we cannot use
// here. The algorithm, from Aliyun's documentation:
//
//  1. Sort every parameter but Signature by name.
//  2. Percent-encode names and values as RFC 3986 does (A–Z a–z 0–9 - _ . ~
//     stay, every other byte is %XY in upper-case hex, a space is %20, not
//     +) and join them as name=value&name=value: the canonicalized query.
//  3. StringToSign = HTTPMethod & percentEncode("/") & percentEncode(canonicalized).
//  4. Signature = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)).

// aliyunEncode is Aliyun's percent-encoding. Go's QueryEscape already keeps
// ~ and escapes *, so of Aliyun's three fix-ups after a form encoder (+ to
// %20, * to %2A, %7E to ~) only the first changes anything; all three are
// applied so that the code reads as the documentation does.
func aliyunEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// aliyunCanonical is the canonicalized query string of params, without
// Signature.
func aliyunCanonical(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(aliyunEncode(k))
		b.WriteByte('=')
		b.WriteString(aliyunEncode(params[k]))
	}
	return b.String()
}

// aliyunStringToSign is step 3.
func aliyunStringToSign(method, canonical string) string {
	return method + "&" + aliyunEncode("/") + "&" + aliyunEncode(canonical)
}

// aliyunSignature is the Signature parameter of a request with params sent
// with method, under the AccessKey secret.
func aliyunSignature(method string, params map[string]string, secret string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(aliyunStringToSign(method, aliyunCanonical(params))))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
