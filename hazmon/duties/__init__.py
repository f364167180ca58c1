"""The enterprise's daily duties (issue 15): 安全承诺, run state, 包保 duties, 值班点名,
在线巡查. Pure models and evaluations with an injected clock; what they find is handed to
the warning layer as facts (`facts`), which its policy grades."""
