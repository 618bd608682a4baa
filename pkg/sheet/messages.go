package sheet

import "github.com/wanjia/wanjia/pkg/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"sheet_empty":            {ZH: "文件为空或没有表头", EN: "The file is empty or has no header row"},
		"sheet_not_spreadsheet":  {ZH: "无法识别的文件，请上传 CSV 或 XLSX", EN: "Not a spreadsheet; upload CSV or XLSX"},
		"sheet_legacy_xls":       {ZH: "不支持旧版 .xls，请在 Excel 中另存为 .xlsx 或 CSV", EN: "Old .xls files are not supported; save as .xlsx or CSV in Excel"},
		"sheet_too_large":        {ZH: "文件过大", EN: "The file is too large"},
		"sheet_too_many_rows":    {ZH: "行数超过上限 {max}", EN: "More than {max} rows"},
		"sheet_bad_encoding":     {ZH: "无法识别文件编码，请另存为 UTF-8 或 GBK", EN: "Unknown text encoding; save as UTF-8 or GBK"},
		"sheet_missing_columns":  {ZH: "缺少必填列：{columns}", EN: "Missing required columns: {columns}"},
		"sheet_duplicate_column": {ZH: "列 {column} 重复", EN: "The column {column} appears twice"},
		"sheet_bad_line":         {ZH: "此行格式有误（引号不匹配）", EN: "This line is malformed (unbalanced quotes)"},
		"sheet_cell_too_long":    {ZH: "单元格内容超过 {max} 个字", EN: "A cell has more than {max} characters"},
	})
}
