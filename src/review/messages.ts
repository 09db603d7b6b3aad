/**
 * Every word the review report shows, in English and Chinese. Renderers take text only from here (and
 * from the data); interpolated values arrive already formatted for the locale and are escaped by the
 * renderer, never here.
 */
import type { RiskCategory, RiskLevel } from '../syscalls/risk.js';
import type { DueStatus } from './due.js';
import type { ExceptionStatus } from './review-model.js';
import type { RiskBand, ScoreComponentId } from './risk-score.js';

export type Lang = 'en' | 'zh';
export const LANGS: readonly Lang[] = ['en', 'zh'];

export interface Messages {
  readonly title: string;
  readonly sections: {
    readonly summary: string;
    readonly score: string;
    readonly due: string;
    readonly unused: string;
    readonly denied: string;
    readonly drift: string;
    readonly usage: string;
    readonly topDenied: string;
    readonly riskBreakdown: string;
    readonly allowedRisky: string;
    readonly exceptions: string;
  };
  readonly label: {
    readonly policy: string;
    readonly owner: string;
    readonly version: string;
    readonly window: string;
    readonly traces: string;
    readonly runs: string;
    readonly hosts: string;
    readonly calls: string;
    readonly executables: string;
    readonly generated: string;
    readonly defaultAction: string;
    readonly syscall: string;
    readonly risk: string;
    readonly category: string;
    readonly reason: string;
    readonly rule: string;
    readonly count: string;
    readonly number: string;
    readonly decisions: string;
    readonly policyAction: string;
    readonly processes: string;
    readonly containers: string;
    readonly abi: string;
    readonly permission: string;
    readonly used: string;
    readonly score: string;
    readonly band: string;
    readonly component: string;
    readonly points: string;
    readonly max: string;
    readonly lastReview: string;
    readonly interval: string;
    readonly scheduled: string;
    readonly dueDate: string;
    readonly status: string;
    readonly upgrades: string;
    readonly expires: string;
    readonly ticket: string;
    readonly baseline: string;
    readonly newlyUsed: string;
    readonly noLongerUsed: string;
    readonly newDenials: string;
    readonly resolvedDenials: string;
    readonly newExecutables: string;
    readonly callsPerDay: string;
    readonly busiestDay: string;
    readonly yes: string;
    readonly no: string;
  };
  readonly none: string;
  readonly notRecorded: string;
  readonly unknownExe: string;
  readonly otherSeries: string;
  readonly noDrift: string;
  readonly riskReasonsNote: string;
  readonly unusedHint: string;
  readonly deniedHint: string;
  readonly permission: Readonly<Record<'always' | 'conditionally', string>>;
  readonly dueStatus: Readonly<Record<DueStatus, string>>;
  readonly band: Readonly<Record<RiskBand, string>>;
  readonly level: Readonly<Record<RiskLevel, string>>;
  readonly category: Readonly<Record<RiskCategory, string>>;
  readonly component: Readonly<Record<ScoreComponentId, string>>;
  readonly exceptionStatus: Readonly<Record<ExceptionStatus, string>>;
  readonly baselineKind: Readonly<Record<'report' | 'trace', string>>;
  /** Text in parentheses, with the language's own parentheses. */
  readonly paren: (text: string) => string;
  readonly windowText: (from: string, to: string, days: string) => string;
  readonly daysLeft: (days: string) => string;
  readonly daysOverdue: (days: string) => string;
  readonly scoreOf: (total: string) => string;
  readonly moreExecutables: (count: string) => string;
  readonly upgradeFlag: string;
  readonly upgradeNewExecutable: (exe: string, day: string) => string;
  readonly upgradeNewVersion: (exe: string, previous: string, day: string) => string;
}

const EN: Messages = {
  title: 'Policy review',
  sections: {
    summary: 'Summary',
    score: 'Risk score',
    due: 'Next review',
    unused: 'Allowed but never used',
    denied: 'Logged or denied syscalls',
    drift: 'Drift since the previous review',
    usage: 'Syscall use over time per process',
    topDenied: 'Top denied syscalls',
    riskBreakdown: 'Risk breakdown',
    allowedRisky: 'Risky syscalls the policy allows',
    exceptions: 'Exceptions',
  },
  label: {
    policy: 'Policy',
    owner: 'Owner',
    version: 'Version',
    window: 'Window',
    traces: 'Traces',
    runs: 'Recordings',
    hosts: 'Hosts',
    calls: 'Calls',
    executables: 'Executables',
    generated: 'Generated',
    defaultAction: 'Default action',
    syscall: 'Syscall',
    risk: 'Risk',
    category: 'Category',
    reason: 'Reason',
    rule: 'Rule',
    count: 'Calls',
    number: 'Count',
    decisions: 'Kernel decisions',
    policyAction: 'Current policy',
    processes: 'Processes',
    containers: 'Containers',
    abi: 'ABI',
    permission: 'Allowed',
    used: 'Used',
    score: 'Score',
    band: 'Band',
    component: 'Component',
    points: 'Points',
    max: 'Maximum',
    lastReview: 'Last review',
    interval: 'Interval',
    scheduled: 'Scheduled',
    dueDate: 'Due',
    status: 'Status',
    upgrades: 'Upgrade evidence',
    expires: 'Expires',
    ticket: 'Ticket',
    baseline: 'Compared with',
    newlyUsed: 'Newly used',
    noLongerUsed: 'No longer used',
    newDenials: 'New denials',
    resolvedDenials: 'Denials gone',
    newExecutables: 'New executables',
    callsPerDay: 'calls per day',
    busiestDay: 'Busiest day',
    yes: 'yes',
    no: 'no',
  },
  none: 'None.',
  notRecorded: 'not recorded',
  unknownExe: '(unknown)',
  otherSeries: 'other processes',
  noDrift: 'No previous review given (--previous): drift not computed.',
  riskReasonsNote: 'Risk reasons are quoted from the risk catalogue.',
  unusedHint: 'Candidates to remove: risky ones first.',
  deniedHint: 'Candidates to add, if the workload needs them: most calls first.',
  permission: { always: 'always', conditionally: 'some arguments' },
  dueStatus: { overdue: 'Overdue', 'due-now': 'Due now', 'due-soon': 'Due soon', scheduled: 'Scheduled' },
  band: { low: 'low', moderate: 'moderate', high: 'high', critical: 'critical' },
  level: { critical: 'critical', high: 'high', medium: 'medium' },
  category: {
    'process-injection': 'process injection',
    'kernel-modification': 'kernel modification',
    privilege: 'privilege',
    namespace: 'namespaces',
    'filesystem-escape': 'file-system escape',
    'kernel-attack-surface': 'kernel attack surface',
    'seccomp-bypass': 'seccomp bypass',
    'hardware-access': 'hardware access',
    'information-leak': 'information leak',
    'system-state': 'system state',
    time: 'system time',
    'mitigation-bypass': 'mitigation bypass',
    'obsolete-abi': 'obsolete ABI',
  },
  component: {
    'allowed-risky': 'Risky syscalls allowed',
    'default-allow': 'Default action allows',
    'unused-allowed': 'Allowed but unused',
    'expired-exceptions': 'Expired exceptions',
    'review-overdue': 'Review overdue',
    'unreviewed-upgrade': 'Upgrade not reviewed',
  },
  exceptionStatus: { expired: 'expired', expiring: 'expiring soon', active: 'active' },
  baselineKind: { report: 'previous review', trace: 'older trace' },
  paren: (text) => ` (${text})`,
  windowText: (from, to, days) => `${from} – ${to} (${days} days)`,
  daysLeft: (days) => `${days} days left`,
  daysOverdue: (days) => `${days} days overdue`,
  scoreOf: (total) => `${total} / 100`,
  moreExecutables: (count) => `and ${count} more`,
  upgradeFlag: 'the operator reported an upgrade (--upgraded)',
  upgradeNewExecutable: (exe, day) => `new executable ${exe}, first seen ${day}`,
  upgradeNewVersion: (exe, previous, day) => `${exe} replaces ${previous}, first seen ${day}`,
};

const ZH: Messages = {
  title: '策略审查报告',
  sections: {
    summary: '概要',
    score: '风险评分',
    due: '下次审查',
    unused: '已允许但从未使用',
    denied: '被记录或拒绝的系统调用',
    drift: '自上次审查以来的变化',
    usage: '各进程系统调用随时间的变化',
    topDenied: '被拒绝最多的系统调用',
    riskBreakdown: '风险构成',
    allowedRisky: '策略允许的高风险系统调用',
    exceptions: '例外规则',
  },
  label: {
    policy: '策略',
    owner: '负责人',
    version: '版本',
    window: '时间范围',
    traces: '跟踪文件',
    runs: '记录次数',
    hosts: '主机',
    calls: '调用次数',
    executables: '可执行文件',
    generated: '生成时间',
    defaultAction: '默认动作',
    syscall: '系统调用',
    risk: '风险',
    category: '类别',
    reason: '原因',
    rule: '规则',
    count: '调用次数',
    number: '数量',
    decisions: '内核处理结果',
    policyAction: '当前策略',
    processes: '进程',
    containers: '容器',
    abi: 'ABI',
    permission: '允许范围',
    used: '是否使用',
    score: '评分',
    band: '等级',
    component: '评分项',
    points: '得分',
    max: '上限',
    lastReview: '上次审查',
    interval: '审查周期',
    scheduled: '计划日期',
    dueDate: '截止日期',
    status: '状态',
    upgrades: '升级迹象',
    expires: '到期日',
    ticket: '工单',
    baseline: '对比基准',
    newlyUsed: '新增使用',
    noLongerUsed: '不再使用',
    newDenials: '新增拒绝',
    resolvedDenials: '已消失的拒绝',
    newExecutables: '新的可执行文件',
    callsPerDay: '每日调用次数',
    busiestDay: '调用最多的一天',
    yes: '是',
    no: '否',
  },
  none: '无。',
  notRecorded: '未记录',
  unknownExe: '（未知）',
  otherSeries: '其他进程',
  noDrift: '未提供上次审查结果（--previous），未计算变化。',
  riskReasonsNote: '风险原因引自风险目录（英文原文）。',
  unusedHint: '可考虑删除，高风险项排在前面。',
  deniedHint: '如工作负载确实需要，可考虑添加；按调用次数从多到少排列。',
  permission: { always: '始终允许', conditionally: '部分参数允许' },
  dueStatus: { overdue: '已逾期', 'due-now': '需立即审查', 'due-soon': '即将到期', scheduled: '按计划' },
  band: { low: '低', moderate: '中', high: '高', critical: '严重' },
  level: { critical: '严重', high: '高', medium: '中' },
  category: {
    'process-injection': '进程注入',
    'kernel-modification': '内核修改',
    privilege: '特权操作',
    namespace: '命名空间',
    'filesystem-escape': '文件系统逃逸',
    'kernel-attack-surface': '内核攻击面',
    'seccomp-bypass': '绕过 seccomp',
    'hardware-access': '硬件访问',
    'information-leak': '信息泄露',
    'system-state': '系统状态',
    time: '系统时间',
    'mitigation-bypass': '绕过漏洞缓解机制',
    'obsolete-abi': '过时的 ABI',
  },
  component: {
    'allowed-risky': '允许的高风险系统调用',
    'default-allow': '默认动作为放行',
    'unused-allowed': '已允许但未使用',
    'expired-exceptions': '已过期的例外',
    'review-overdue': '审查已逾期',
    'unreviewed-upgrade': '升级后尚未审查',
  },
  exceptionStatus: { expired: '已过期', expiring: '即将过期', active: '有效' },
  baselineKind: { report: '上次审查报告', trace: '较早的跟踪记录' },
  paren: (text) => `（${text}）`,
  windowText: (from, to, days) => `${from} 至 ${to}（${days} 天）`,
  daysLeft: (days) => `还剩 ${days} 天`,
  daysOverdue: (days) => `已逾期 ${days} 天`,
  scoreOf: (total) => `${total} / 100`,
  moreExecutables: (count) => `另有 ${count} 个`,
  upgradeFlag: '操作人员声明工作负载已升级（--upgraded）',
  upgradeNewExecutable: (exe, day) => `出现新的可执行文件 ${exe}，首次出现于 ${day}`,
  upgradeNewVersion: (exe, previous, day) => `${exe} 取代了 ${previous}，首次出现于 ${day}`,
};

const CATALOGUE: Readonly<Record<Lang, Messages>> = { en: EN, zh: ZH };

/** The message catalogue of a language. */
export function messagesFor(lang: Lang): Messages {
  return CATALOGUE[lang];
}

/** The language named by `text` ("en", "zh"), or undefined. */
export function parseLang(text: string): Lang | undefined {
  return LANGS.find((lang) => lang === text);
}
