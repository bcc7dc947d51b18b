"""Word segmentation for Chinese and English text (jieba), shared by search and voice-of-the-customer.

Chinese has no spaces between words, so both the knowledge-base index and the keyword counts need a
segmenter; jieba splits Chinese into words and leaves runs of Latin letters and digits whole. English
words are lower-cased. Stop words (the, 的, 了, …) and punctuation are dropped.
"""

from __future__ import annotations

import logging
import re
import threading

import jieba

jieba.setLogLevel(logging.WARNING)
_ready = threading.Lock()
_initialised = False

# Words that carry no topic: common English function words and Chinese particles, pronouns and fillers.
STOPWORDS = frozenset(" ".join([
    "a an and are as at be been but by can could did do does for from had has have he her his how i if in",
    "is it its just me my no not of on or our she so than that the their them then there they this to too",
    "up us was we were what when where which who why will with would you your yes ok okay am im dont cant",
    "also very please thanks thank 的 了 是 在 我 你 他 她 它 们 我们 你们 他们 这 那 这个 那个 就 都 也",
    "还 和 与 及 或 吗 呢 吧 啊 呀 哦 嗯 哈 么 什么 怎么 一个 一下 一些 没有 有 没 不 很 太 又 再 让 被",
    "把 给 对 从 到 为 以 而 但 可以 可能 已经 因为 所以 如果 然后 就是 还是 我要 我想 请 您 您好 你好",
    "谢谢 好的 好 是的 对的 一 二 三 说 要 会 能 想 去 来 上 下 里 中 个 次 等 啦 哎 喂 请问 麻烦 客户",
    "用户",
]).split())

_WORD = re.compile(r"[0-9a-z\u4e00-\u9fff]", re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _initialise() -> None:
    global _initialised
    if not _initialised:
        with _ready:
            if not _initialised:
                jieba.initialize()
                _initialised = True


def _keep(token: str) -> bool:
    if not token or token in STOPWORDS or not _WORD.search(token):
        return False
    if token.isdigit():
        return False
    # A lone Latin letter or a lone Chinese character rarely names a topic.
    return len(token) > 1


def words(text: str) -> list[str]:
    """The meaningful words of `text`, in order (precise segmentation): for counting keywords."""
    if not text:
        return []
    _initialise()
    return [token for token in (t.strip().lower() for t in jieba.lcut(text)) if _keep(token)]


def search_tokens(text: str) -> list[str]:
    """Words plus their shorter sub-words (search-engine mode), for indexing and for queries.

    "退款到账时间" yields 退款, 到账, 时间 and 到账时间, so a query for any of them finds the text.
    """
    if not text:
        return []
    _initialise()
    return [token for token in (t.strip().lower() for t in jieba.lcut_for_search(text)) if _keep(token)]


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text or ""))
