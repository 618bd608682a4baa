package pii

import "github.com/wanjia/wanjia/pkg/i18n"

// The messages say what a valid value looks like, not only that this one is
// wrong: they end up next to a form field or an import row, read by
// community staff fixing a spreadsheet.
func init() {
	i18n.Register(map[string]i18n.Message{
		"phone_empty":  {ZH: "请填写电话号码", EN: "Enter a phone number"},
		"phone_format": {ZH: "电话号码格式不正确，请填写手机号或带区号的固定电话", EN: "Not a valid phone number: give a mobile number or a landline with its area code"},
		"phone_mobile_format": {ZH: "手机号码应为 11 位数字，以 13–19 开头",
			EN: "A mobile number has 11 digits and starts with 13 to 19"},
		"phone_landline_format": {ZH: "固定电话应带区号，号码 7 或 8 位，如 0773-2851234；分机号写在后面，如 0773-2851234-801",
			EN: "Give a landline with its area code and a 7- or 8-digit number, e.g. 0773-2851234; put an extension after it: 0773-2851234-801"},
		"id_length": {ZH: "身份证号码应为 18 位（不支持 15 位旧号码）",
			EN: "An ID number has 18 characters (old 15-digit numbers are not accepted)"},
		"id_chars": {ZH: "身份证号码前 17 位应为数字，最后一位为数字或 X",
			EN: "The first 17 characters of an ID number are digits, the last a digit or X"},
		"id_region":     {ZH: "身份证号码的地区码不正确", EN: "The region code of the ID number is not valid"},
		"id_birth_date": {ZH: "身份证号码中的出生日期不正确", EN: "The birth date in the ID number is not a valid date"},
		"id_checksum":   {ZH: "身份证号码校验位不符，请核对是否输错", EN: "The check digit of the ID number does not match; please check it for typing errors"},
	})
}
