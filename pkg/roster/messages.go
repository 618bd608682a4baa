package roster

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"building_exists":          {ZH: "楼栋 {name} 已存在", EN: "The building {name} already exists"},
		"unknown_building":         {ZH: "楼栋不存在", EN: "No such building"},
		"building_in_other_grid":   {ZH: "该楼栋不在所选网格内", EN: "The building is in another grid"},
		"address_or_building":      {ZH: "请填写地址或选择楼栋", EN: "Give an address or a building"},
		"household_exists":         {ZH: "该住户已登记", EN: "This household is already on the roster"},
		"unknown_household":        {ZH: "住户不存在", EN: "No such household"},
		"tag_too_long":             {ZH: "标签不能超过 {max} 个字", EN: "A tag must be at most {max} characters"},
		"too_many_tags":            {ZH: "标签不能超过 {max} 个", EN: "At most {max} tags"},
		"invalid_sex":              {ZH: "性别应为 男/女（male/female）", EN: "Sex must be male or female (男/女)"},
		"birth_year_mismatch":      {ZH: "出生年份与身份证号不符", EN: "The birth year does not match the ID number"},
		"sex_mismatch":             {ZH: "性别与身份证号不符", EN: "The sex does not match the ID number"},
		"resident_same_id":         {ZH: "已有相同身份证号的居民", EN: "A resident with this ID number is already on the roster"},
		"resident_same_name_phone": {ZH: "已有同名同电话的居民", EN: "A resident with this name and phone is already on the roster"},
		"import_kind":              {ZH: "kind 应为 households 或 residents", EN: "kind must be households or residents"},
		"import_file_required":     {ZH: "请上传文件（字段名 file）", EN: "Upload a file in the field named file"},
		"search_by_name_only":      {ZH: "只能按姓名查找居民（电话、身份证号对本角色不可见）", EN: "Search residents by name only (phone and ID numbers are hidden for your role)"},
		"search_by_address_only":   {ZH: "只能按地址查找住户（电话对本角色不可见）", EN: "Search households by address only (phones are hidden for your role)"},
		"export_unknown":           {ZH: "可导出 residents 或 households，格式 xlsx 或 csv", EN: "Export residents or households as xlsx or csv"},
	})
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"repeated_in_file": {ZH: "与第 {row} 行重复", EN: "Repeats row {row}"},
	})
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"rejected_line":       {ZH: "行号", EN: "Line"},
		"rejected_problems":   {ZH: "问题", EN: "Problems"},
		"import_not_finished": {ZH: "导入尚未完成", EN: "The import has not finished yet"},
		"import_gave_up":      {ZH: "导入多次重试仍未完成，已保存的行保留，请重新上传文件", EN: "The import could not finish after several tries; rows already saved are kept. Upload the file again"},
		"import_too_many_rejected": {ZH: "被拒绝的行超过 {max} 行，导入已停止：已保存的行保留，前 {max} 行被拒绝的行可下载。请检查文件的列和内容后重新上传",
			EN: "More than {max} rows were rejected, so the import stopped: rows already saved are kept, and the first {max} rejected rows can be downloaded. Check the file's columns and contents and upload it again"},
		"import_rejected_too_large": {ZH: "被拒绝的行超过 {max} MB，导入已停止：已保存的行保留，前 {rows} 行被拒绝的行可下载。请检查文件后重新上传",
			EN: "The rejected rows came to more than {max} MB, so the import stopped: rows already saved are kept, and the first {rows} rejected rows can be downloaded. Check the file and upload it again"},
	})
}
