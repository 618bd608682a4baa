package provider

import (
	"net/http"
	"strings"
)

// Keypad check-in calls (Message.Keypad): the provider calls the resident,
// reads a prompt that asks for 1 (well) or 2 (fever or symptoms), then the
// temperature as digits, # to end, and calls us back with the keys:
//
//   - Twilio: the call's TwiML is a <Gather> whose action is
//     {WANJIA_BASE_URL}/hooks/voice/twilio/gather?mid=<message id>&try=<n>;
//     its status callback {WANJIA_BASE_URL}/hooks/voice/twilio/status?mid=….
//     Both are signed by Twilio and checked with twilio-go's
//     RequestValidator. An answer that is no check-in is asked again in
//     the same call (KeysAnswer.Prompt), up to the caller's tries;
//   - Aliyun: IvrCall, with the keypad TTS template; Aliyun pushes the
//     keys in the dtmf field of its VoiceReport (the call's record, sent
//     when it ends) to /hooks/voice/aliyun/gather, guarded as its other
//     pushes are (aliyun_hooks.go);
//   - the webhook gateway: the message goes with "keypad":true, and the
//     gateway posts the keys, signed, to /hooks/voice/webhook/gather (the
//     contract is in webhook.go).
//
// The status callbacks of these calls are receipts (Callbacks.Receipts),
// posted to /hooks/voice/<provider>/status.

// Keys is what a keypad call brought back.
type Keys struct {
	// MessageID is our message ID where the provider echoes it (Twilio's
	// mid, the webhook's id); empty otherwise, and the hook matches
	// CallID against the outbox's provider IDs.
	MessageID string
	// CallID is the provider's ID of the call: a check-in is stored once
	// per call ID, however often the provider calls back.
	CallID string
	// Digits are the keys pressed, as the provider reports them (# and *
	// included where it keeps them); empty when the resident pressed none.
	Digits string
	// Try is which prompt of the call the keys answer (Twilio), from 1; 0
	// where the provider does not ask again.
	Try int
	// Ended, when set, is the call's final state: the provider reports the
	// keys with the call's record (Aliyun's VoiceReport), so no other
	// callback will say that the call is over.
	Ended *Status
}

// KeysAnswer is what the hook answers a keys callback with.
type KeysAnswer struct {
	// Outcome is the hook's word for what became of the keys ("stored",
	// "duplicate", "invalid", "ignored"), passed on to a gateway.
	Outcome string
	// Say is read to the resident before the call ends or asks again
	// (Twilio); empty says nothing.
	Say string
	// Prompt, when set, asks again in the same call (Twilio, as try
	// Keys.Try+1); empty hangs up.
	Prompt string
}

// KeypadCallbacks is implemented by providers that place keypad check-in
// calls. Keys verifies the request first, as Callbacks' methods do
// (ErrBadSignature for a forged or unsigned one), then reads the keys.
type KeypadCallbacks interface {
	Callbacks
	Keys(r *http.Request) ([]Keys, error)
	// KeysAck answers a keys callback in the form the provider expects
	// (Twilio: TwiML).
	KeysAck(w http.ResponseWriter, k Keys, a KeysAnswer)
}

// KeypadHookPath is the path of a provider's keys callback; status
// callbacks go to the same path with "status" for "gather".
func KeypadHookPath(name, what string) string { return "/hooks/voice/" + name + "/" + what }

// cleanDigits keeps what a keypad can send (0-9, * and #) and drops the
// rest (spaces, commas some gateways put between keys); a string of more
// than maxDigits keys is cut, so a callback cannot grow a check-in's
// record.
func cleanDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < maxDigits; i++ {
		if c := s[i]; c >= '0' && c <= '9' || c == '*' || c == '#' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// maxDigits bounds the keys kept of one answer: 1 or 2, four keys of
// temperature and #, with room for a resident who presses on.
const maxDigits = 32
