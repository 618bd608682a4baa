package screeningpages

import "github.com/wanjia/wanjia/pkg/i18n"

// The words of the screening pages, in both languages (the words
// several packages share are pkg/console's). Keys start with "console.";
// TestTemplatesUseCatalogue fails on text in a template that is not from
// the catalogue.
func init() {
	i18n.Register(map[string]i18n.Message{
		// Screening (排查): campaigns, their lists and a household's history.
		"console.menu.screenings": {ZH: "排查", EN: "Screening"},
		"console.menu.follow_ups": {ZH: "待跟进", EN: "Follow-ups"},

		"console.method.any": {ZH: "电话或上门", EN: "Phone or visit"},

		// Outcomes: as a list of work shows them (neutral), and on the
		// buttons of a call and of a visit.

		"console.reason.symptoms":      {ZH: "有症状", EN: "Symptoms"},
		"console.reason.close_contact": {ZH: "密切接触", EN: "Close contact"},
		"console.reason.travel":        {ZH: "近期外地返回", EN: "Recent return"},

		"console.screenings.title":        {ZH: "排查", EN: "Screening"},
		"console.screenings.new":          {ZH: "发起排查", EN: "Start a screening"},
		"console.screenings.start":        {ZH: "发起排查", EN: "Start the screening"},
		"console.screenings.open":         {ZH: "进行中", EN: "Open"},
		"console.screenings.closed":       {ZH: "已结束", EN: "Ended"},
		"console.screenings.none_open":    {ZH: "没有进行中的排查", EN: "No screening is open"},
		"console.screening.title":         {ZH: "排查进度", EN: "Screening progress"},
		"console.screening.name":          {ZH: "名称", EN: "Name"},
		"console.screening.name_hint":     {ZH: "如：春节返乡人员排查", EN: "e.g. Returnees after the holiday"},
		"console.screening.method":        {ZH: "方式", EN: "Method"},
		"console.screening.grids":         {ZH: "范围", EN: "Grids"},
		"console.screening.grids_hint":    {ZH: "不选即为全社区。", EN: "None ticked: the whole community."},
		"console.screening.start":         {ZH: "开始日期", EN: "Starts"},
		"console.screening.end":           {ZH: "结束日期", EN: "Ends"},
		"console.screening.dates":         {ZH: "起止日期", EN: "Dates"},
		"console.screening.dates_hint":    {ZH: "开始日期不填为今天；结束日期不填为开始后第 14 天。", EN: "No start date: today. No end date: 14 days from the start."},
		"console.screening.whole":         {ZH: "全社区", EN: "Whole community"},
		"console.screening.reached_of":    {ZH: "已联系 {reached} / {households} 户（{pct}%）", EN: "{reached} of {households} households reached ({pct}%)"},
		"console.screening.started":       {ZH: "排查已发起，共 {n} 户", EN: "Screening started: {n} households"},
		"console.screening.ended":         {ZH: "排查已结束", EN: "The screening has ended"},
		"console.screening.progress":      {ZH: "排查进度", EN: "Progress"},
		"console.screening.by_grid":       {ZH: "各网格", EN: "By grid"},
		"console.screening.by_worker":     {ZH: "今日各人登记", EN: "Today, by worker"},
		"console.screening.worker":        {ZH: "登记人", EN: "Worker"},
		"console.screening.no_households": {ZH: "范围内没有住户", EN: "No households in scope"},
		"console.screening.none_today":    {ZH: "今天还没有人登记", EN: "Nothing recorded today yet"},
		"console.screening.close":         {ZH: "结束排查", EN: "End the screening"},
		"console.screening.close_confirm": {ZH: "确定结束「{name}」吗？结束后不能再登记电话和走访，已登记的结果都会保留。", EN: "End “{name}”? No more calls or visits can be recorded on it; what was recorded stays."},
		"console.screening.close_yes":     {ZH: "确定结束", EN: "Yes, end it"},
		"console.screening.status.open":   {ZH: "进行中", EN: "Open"},
		"console.screening.status.closed": {ZH: "已结束", EN: "Ended"},

		"console.progress.reached":       {ZH: "已联系", EN: "Reached"},
		"console.progress.unreached":     {ZH: "未联系上", EN: "Not reached"},
		"console.progress.by_phone":      {ZH: "电话联系", EN: "By phone"},
		"console.progress.by_visit":      {ZH: "上门联系", EN: "By visit"},
		"console.progress.door":          {ZH: "待上门", EN: "To visit"},
		"console.progress.moved_out":     {ZH: "已搬离", EN: "Moved out"},
		"console.progress.calls_today":   {ZH: "今日电话", EN: "Calls today"},
		"console.progress.visits_today":  {ZH: "今日走访", EN: "Visits today"},
		"console.progress.reached_today": {ZH: "今日联系上", EN: "Reached today"},

		"console.home.campaigns": {ZH: "进行中的排查", EN: "Open screenings"},
		"console.home.calls":     {ZH: "开始打电话（还剩 {n} 户）", EN: "Start calling ({n} left)"},

		"console.calls.title":     {ZH: "电话排查", EN: "Call list"},
		"console.visits.title":    {ZH: "上门走访", EN: "Door-to-door list"},
		"console.visits.open":     {ZH: "上门走访（{n} 户）", EN: "Door-to-door ({n})"},
		"console.calls.remaining": {ZH: "还剩 {n} 户", EN: "{n} left"},
		"console.calls.done":      {ZH: "已登记：{address}，{outcome}。", EN: "Recorded: {address}, {outcome}."},
		"console.calls.follow_up": {ZH: "发现的情况已转社区跟进。", EN: "What you found went to staff to follow up."},
		"console.calls.repeat":    {ZH: "重复的提交没有再次保存。", EN: "The repeated submission was not saved again."},
		"console.calls.empty":     {ZH: "电话名单已经打完了。", EN: "Nobody is left to call."},
		"console.visits.empty":    {ZH: "没有等待上门走访的住户。", EN: "No household is waiting for a visit."},
		"console.calls.no_phone":  {ZH: "此户没有登记电话：请点「空号/错号」，转为上门走访。", EN: "No phone on record: tap “Wrong number” to send it to the door-to-door list."},
		"console.visits.no_phone": {ZH: "此户没有登记电话。", EN: "No phone on record."},
		"console.calls.upcoming":  {ZH: "接下来", EN: "Coming up"},

		"console.task.title":        {ZH: "住户排查记录", EN: "Household in a screening"},
		"console.task.tried":        {ZH: "已联系 {n} 次", EN: "{n} attempts"},
		"console.task.last":         {ZH: "上次：{outcome}", EN: "last: {outcome}"},
		"console.task.history":      {ZH: "联系记录", EN: "History"},
		"console.task.this_history": {ZH: "本户联系记录", EN: "This household's history"},
		"console.task.status":       {ZH: "状态", EN: "Status"},
		"console.task.status.open":  {ZH: "待联系", EN: "To do"},
		"console.task.status.done":  {ZH: "已完成", EN: "Done"},
		"console.task.on_door_list": {ZH: "在上门名单上", EN: "on the door-to-door list"},
		"console.task.attempts":     {ZH: "联系次数", EN: "Attempts"},
		"console.task.reached_on":   {ZH: "联系上的日期", EN: "Reached on"},
		"console.task.record":       {ZH: "登记结果", EN: "Record an outcome"},
		"console.task.no_history":   {ZH: "还没有联系记录", EN: "No attempts yet"},

		"console.attempt.findings":      {ZH: "发现情况（如有）", EN: "Findings (if any)"},
		"console.attempt.findings_hint": {ZH: "先填写发现的情况，再点下面的结果。", EN: "Fill in what you found, then tap the outcome below."},
		"console.attempt.symptoms":      {ZH: "有发热、咳嗽等症状", EN: "Fever, cough or other symptoms"},
		"console.attempt.close_contact": {ZH: "是密切接触者", EN: "A close contact"},
		"console.attempt.travel_from":   {ZH: "近期从何地返回", EN: "Came back from"},
		"console.attempt.returned_on":   {ZH: "返回日期", EN: "Returned on"},
		"console.attempt.occupants":     {ZH: "现住人数", EN: "People living here"},
		"console.attempt.at":            {ZH: "时间", EN: "When"},
		"console.attempt.by":            {ZH: "登记人", EN: "By"},
		"console.attempt.came_from":     {ZH: "从{place}返回", EN: "Came from {place}"},
		"console.attempt.returned":      {ZH: "{date} 返回", EN: "Back on {date}"},
		"console.attempt.lives_here":    {ZH: "现住 {n} 人", EN: "{n} living here"},

		"console.follow_ups.to_case":          {ZH: "转为隔离", EN: "Turn into isolation"},
		"console.follow_ups.case":             {ZH: "查看隔离", EN: "See the case"},
		"console.follow_ups.title":            {ZH: "待跟进", EN: "Follow-ups"},
		"console.follow_ups.note":             {ZH: "排查中发现有症状、密切接触或近期从关注地区返回的住户，由社区工作人员跟进处理。", EN: "Households where screening found symptoms, a close contact or a recent return from a watched place; staff follow them up."},
		"console.follow_ups.status":           {ZH: "状态", EN: "Status"},
		"console.follow_ups.status.open":      {ZH: "待跟进", EN: "Open"},
		"console.follow_ups.status.done":      {ZH: "已处理", EN: "Done"},
		"console.follow_ups.status.dismissed": {ZH: "无需跟进", EN: "Dismissed"},
		"console.follow_ups.status.case":      {ZH: "已转隔离", EN: "Became a case"},
		"console.follow_ups.status.all":       {ZH: "全部", EN: "All"},
		"console.follow_ups.raised":           {ZH: "发现时间", EN: "Raised"},
		"console.follow_ups.closed":           {ZH: "处理时间", EN: "Closed"},
		"console.follow_ups.notes":            {ZH: "处理情况", EN: "What was done"},
		"console.follow_ups.mark.done":        {ZH: "已处理", EN: "Mark done"},
		"console.follow_ups.mark.dismissed":   {ZH: "无需跟进", EN: "Dismiss"},
		"console.follow_ups.save_notes":       {ZH: "保存处理情况", EN: "Save the note"},
		"console.follow_ups.reopen":           {ZH: "重新打开", EN: "Reopen"},
		"console.follow_ups.saved":            {ZH: "已保存", EN: "Saved"},
		"console.follow_ups.empty":            {ZH: "没有这样的跟进事项", EN: "No such follow-ups"},
	})
}
