package pii

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"phone_empty":           {ZH: "请填写电话号码", EN: "Enter a phone number"},
		"phone_format":          {ZH: "电话号码格式不正确", EN: "Not a valid phone number"},
		"phone_mobile_format":   {ZH: "手机号码应为 11 位，以 13–19 开头", EN: "A mobile number has 11 digits starting with 13–19"},
		"phone_landline_format": {ZH: "固定电话请带区号，如 0773-2851234", EN: "Give a landline with its area code, e.g. 0773-2851234"},
		"id_length":             {ZH: "身份证号应为 18 位", EN: "An ID number has 18 characters"},
		"id_chars":              {ZH: "身份证号只能是数字，最后一位可为 X", EN: "An ID number is digits, the last may be X"},
		"id_region":             {ZH: "身份证号的地区码不正确", EN: "The ID number's region code is not valid"},
		"id_birth_date":         {ZH: "身份证号中的出生日期不正确", EN: "The ID number's birth date is not valid"},
		"id_checksum":           {ZH: "身份证号校验位不正确，请核对", EN: "The ID number's check digit is wrong; please check it"},
	})
}
