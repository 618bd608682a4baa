package sheet

import (
	"fmt"

	"github.com/wanjia/wanjia/pkg/i18n"
)

// The messages say what to do, not only what is wrong: the reader is a
// community worker who exported a roster from Excel or WPS, and the fix is
// nearly always "save it again as .xlsx or CSV".
func init() {
	i18n.Register(map[string]i18n.Message{
		keyEmpty: {
			ZH: "文件中没有数据：请确认第一个工作表有表头行和至少一行数据",
			EN: "The file has no data: the first sheet needs a header row and at least one data row",
		},
		keyNotSpreadsheet: {
			ZH: "无法识别的文件，请上传 Excel 表格（.xlsx）或 CSV 文件",
			EN: "This is not a spreadsheet; upload an Excel workbook (.xlsx) or a CSV file",
		},
		keyLegacyXLS: {
			ZH: "这是旧版 Excel（.xls）或设置了密码的表格，无法读取；请在 Excel 或 WPS 中“另存为” .xlsx 或 CSV（不设密码）后重新上传",
			EN: "This is a legacy Excel file (.xls) or a password-protected workbook; in Excel or WPS use Save As .xlsx or CSV (without a password) and upload that",
		},
		keyCorrupt: {
			ZH: "表格文件已损坏或不完整，无法读取；请在 Excel 中打开后重新另存为 .xlsx 再上传",
			EN: "The workbook is damaged or incomplete; open it in Excel, save it again as .xlsx and upload that",
		},
		keyTooLarge: {
			ZH: "文件过大（上限 {max}），请拆分后分批上传",
			EN: "The file is too large (limit {max}); split it and upload the parts",
		},
		keyTooManyRows: {
			ZH: "数据超过 {max} 行，请拆分后分批上传",
			EN: "More than {max} data rows; split the file and upload the parts",
		},
		keyMissingColumns: {
			ZH: "缺少必需的列：{columns}；请检查表头行的列名",
			EN: "Required columns are missing: {columns}; check the titles in the header row",
		},
		keyBadEncoding: {
			ZH: "无法识别文件的文字编码，请在 Excel 中另存为“CSV UTF-8”或 .xlsx 后上传",
			EN: "The text encoding is not recognised; save the file as \"CSV UTF-8\" or .xlsx in Excel and upload that",
		},
		keyDuplicateColumn: {
			ZH: "表头中“{headers}”都表示 {column}，请只保留一列",
			EN: "The titles \"{headers}\" both mean {column}; keep only one of these columns",
		},
		keyRowBadQuote: {
			ZH: "此行的英文双引号不成对，无法读取；含逗号或换行的内容需用双引号括起，内容中的双引号要写成两个",
			EN: "The double quotes in this row do not pair up; a value with commas or line breaks must be in double quotes, and a quote inside it doubled",
		},
		keyRowCellTooLong: {
			ZH: "“{column}”的内容超过 {max} 个字",
			EN: "The value in \"{column}\" is longer than {max} characters",
		},
		// The XLSX limits are written into these texts rather than passed
		// as {max}: an import that fails in the background keeps only the
		// key, and the message must still say what the limit is.
		keyUnpackedTooLarge: {
			ZH: fmt.Sprintf("表格解压后内容过多（工作表上限 %s，共享文本上限 %s），可能含有大量空白或隐藏内容；请在 Excel 中只复制需要的行列到新工作簿，另存为 .xlsx 后重新上传",
				sizeText(MaxSheetXMLBytes), sizeText(MaxSharedStringsBytes)),
			EN: fmt.Sprintf("Unpacked, the workbook holds too much (limit %s for a sheet, %s for its shared text), probably masses of blank or hidden content; copy only the rows and columns you need into a new workbook, save it as .xlsx and upload that",
				sizeText(MaxSheetXMLBytes), sizeText(MaxSharedStringsBytes)),
		},
		keyCellTooLarge: {
			ZH: fmt.Sprintf("表格中有单元格的内容超过 %s，文件可能已损坏；请删除该单元格的内容，另存为 .xlsx 后重新上传", sizeText(MaxCellBytes)),
			EN: fmt.Sprintf("A cell in the workbook holds more than %s, so the file is probably damaged; clear that cell, save the file as .xlsx and upload it again", sizeText(MaxCellBytes)),
		},
		keyRowTooLarge: {
			ZH: fmt.Sprintf("表格中有一行的内容超过 %s，文件可能已损坏；请删除多余的列，另存为 .xlsx 后重新上传", sizeText(MaxRowBytes)),
			EN: fmt.Sprintf("A row of the workbook holds more than %s, so the file is probably damaged; delete the columns you do not need, save the file as .xlsx and upload it again", sizeText(MaxRowBytes)),
		},
		keyTooManyStrings: {
			ZH: fmt.Sprintf("表格中不同的文字超过 %d 项，请拆分后分批上传", MaxSharedStrings),
			EN: fmt.Sprintf("The workbook holds more than %d distinct texts; split it and upload the parts", MaxSharedStrings),
		},
		keyRowBadEncoding: {
			ZH: "此行含有无法识别的字符（可能是乱码），请将文件另存为“CSV UTF-8”或 .xlsx 后重新上传",
			EN: "This row contains characters that cannot be decoded; save the file as \"CSV UTF-8\" or .xlsx and upload it again",
		},
	})
}
