package provider

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// The examples Aliyun publishes with its signature documentation, with the
// signatures it publishes for them.
func TestAliyunSignaturePublishedExamples(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		secret    string
		params    map[string]string
		canonical string // "" when the page does not print it
		toSign    string
		signature string
	}{
		{
			// Aliyun's "Signature mechanism" page for RPC APIs (ECS and
			// many others), DescribeRegions with AccessKeyId testid and
			// secret testsecret. The page prints the StringToSign with the
			// encoded canonical string's separators as plain "&"; the
			// signature it publishes is that of the correctly encoded %26,
			// as here.
			name:   "ECS DescribeRegions",
			method: "GET",
			secret: "testsecret",
			params: map[string]string{
				"TimeStamp":        "2016-02-23T12:46:24Z",
				"Format":           "XML",
				"AccessKeyId":      "testid",
				"Action":           "DescribeRegions",
				"SignatureMethod":  "HMAC-SHA1",
				"SignatureNonce":   "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
				"Version":          "2014-05-26",
				"SignatureVersion": "1.0",
			},
			toSign: "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML" +
				"%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf" +
				"%26SignatureVersion%3D1.0%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
			signature: "CT9X0VtwR86fNWSnsc6v8YGOjuE=",
		},
		{
			// Dysms' own page ("HTTP协议及签名" / 签名机制 of 短信服务),
			// SendSms with AccessKeyId testId and secret testSecret: a
			// Chinese sign name and a JSON template parameter, exactly
			// what we send.
			name:   "Dysms SendSms",
			method: "GET",
			secret: "testSecret",
			params: map[string]string{
				"AccessKeyId":      "testId",
				"Action":           "SendSms",
				"Format":           "XML",
				"OutId":            "123",
				"PhoneNumbers":     "15300000001",
				"RegionId":         "cn-hangzhou",
				"SignName":         "阿里云短信测试专用",
				"SignatureMethod":  "HMAC-SHA1",
				"SignatureNonce":   "45e25e9b-0a6f-4070-8c85-2956eda1b466",
				"SignatureVersion": "1.0",
				"TemplateCode":     "SMS_71390007",
				"TemplateParam":    `{"customer":"test"}`,
				"Timestamp":        "2017-07-12T02:42:19Z",
				"Version":          "2017-05-25",
			},
			canonical: "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001" +
				"&RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8" +
				"&SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0" +
				"&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D" +
				"&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25",
			signature: "zJDF+Lrzhj/ThnlvIToysFRq6t4=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			canonical := aliyunCanonical(tt.params)
			if tt.canonical != "" && canonical != tt.canonical {
				t.Errorf("canonical query\n got %s\nwant %s", canonical, tt.canonical)
			}
			if tt.toSign != "" {
				if got := aliyunStringToSign(tt.method, canonical); got != tt.toSign {
					t.Errorf("StringToSign\n got %s\nwant %s", got, tt.toSign)
				}
			}
			if got := aliyunSignature(tt.method, tt.params, tt.secret); got != tt.signature {
				t.Errorf("Signature = %s, want %s", got, tt.signature)
			}
			// The signature does not sign itself.
			withSig := map[string]string{"Signature": "x"}
			for k, v := range tt.params {
				withSig[k] = v
			}
			if got := aliyunSignature(tt.method, withSig, tt.secret); got != tt.signature {
				t.Errorf("a Signature parameter changed the signature: %s", got)
			}
			if got := refAliyunSignature(tt.method, tt.params, tt.secret); got != tt.signature {
				t.Errorf("the reference implementation disagrees with Aliyun: %s", got)
			}
		})
	}
}

// refPercentEncode is Aliyun's encoding written straight from the
// documentation's table, byte by byte, with nothing from net/url: the fake
// server checks our requests with it, so that a mistake in aliyunEncode
// cannot hide behind the same mistake on both sides.
func refPercentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func refAliyunSignature(method string, params map[string]string, secret string) string {
	var names []string
	for k := range params {
		if k != "Signature" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	pairs := make([]string, len(names))
	for i, k := range names {
		pairs[i] = refPercentEncode(k) + "=" + refPercentEncode(params[k])
	}
	toSign := method + "&" + refPercentEncode("/") + "&" + refPercentEncode(strings.Join(pairs, "&"))
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestAliyunEncodeMatchesTheDocumentedRules(t *testing.T) {
	for in, want := range map[string]string{
		"a b":         "a%20b", // a space is %20, never +
		"a+b":         "a%2Bb",
		"a*b":         "a%2Ab",
		"a~b":         "a~b",
		"-_.":         "-_.",
		"/":           "%2F",
		"=&":          "%3D%26",
		"疫":           "%E7%96%AB",
		`{"k":"<v>"}`: "%7B%22k%22%3A%22%3Cv%3E%22%7D",
		"\x00\xff":    "%00%FF",
	} {
		if got := aliyunEncode(in); got != want {
			t.Errorf("aliyunEncode(%q) = %q, want %q", in, got, want)
		}
	}
	// And on random bytes, against the reference.
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("aZ09-_.~ +*/%=&?#疫😷\x00\xff\"'")
	for i := 0; i < 2000; i++ {
		b := make([]byte, r.IntN(24))
		for j := range b {
			b[j] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(b)
		if got, want := aliyunEncode(s), refPercentEncode(s); got != want {
			t.Fatalf("aliyunEncode(%q) = %q, reference %q", s, got, want)
		}
	}
}

func FuzzAliyunEncode(f *testing.F) {
	for _, s := range []string{"", "a b", "+*~", "疫情", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := aliyunEncode(s), refPercentEncode(s); got != want {
			t.Fatalf("aliyunEncode(%q) = %q, reference %q", s, got, want)
		}
	})
}
