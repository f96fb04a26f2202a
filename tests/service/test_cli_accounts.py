"""``giaibao create-user`` applies the same e-mail and password rules (real commits)."""

import pytest
from sqlmodel import Session, delete, select

from app.accounts.models import User
from app.audit.models import AuditEntry
from app.cli import main


def _create(email: str, password: str, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(["create-user", "--email", email, "--password", password, "--name", "Võ Thị Hồng Nhung",
              "--role", "organizer"])
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def test_create_user_refuses_a_look_alike_and_a_weak_password(engine, capsys):
    try:
        assert _create("ＢＴＣ２＠ＧＩＡＩＢＡＯ．ＶＮ", "mat-khau-an-toan", capsys)[:2] == (
            0, "organizer btc2@giaibao.vn (id {})\n".format(_id("btc2@giaibao.vn", engine)))
        assert _create("Btc2@GiaiBao.vn", "mat-khau-an-toan", capsys) == (
            2, "", "Đã có tài khoản dùng e-mail này.\n")
        assert _create("btc3@giaibao.vn", "hongnhung-2026", capsys) == (
            2, "", "Mật khẩu không được chứa họ tên của bạn.\n")
        assert _id("btc3@giaibao.vn", engine) is None
    finally:
        with Session(engine) as cleanup:
            ids = cleanup.exec(select(User.id).where(User.email.like("btc%@giaibao.vn"))).all()
            cleanup.exec(delete(AuditEntry).where(AuditEntry.object_type == "user",
                                                AuditEntry.object_id.in_(ids)))
            cleanup.exec(delete(User).where(User.id.in_(ids)))
            cleanup.commit()


def _id(email: str, engine) -> int | None:
    with Session(engine) as session:
        return session.exec(select(User.id).where(User.email == email)).first()
