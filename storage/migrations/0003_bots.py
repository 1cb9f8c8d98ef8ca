from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('wagate', '0002_sessions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BotRun',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('message_id', fields.CharField(unique=True, max_length=40)),
                ('conversation_id', fields.CharField(max_length=40)),
                ('state', fields.CharField(default='claimed', max_length=16)),
                ('plugin', fields.CharField(default='', max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'bot_run', 'app': 'wagate', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BotSession',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('conversation_id', fields.CharField(max_length=40)),
                ('flow', fields.CharField(max_length=128)),
                ('node', fields.CharField(default='', max_length=128)),
                ('status', fields.CharField(max_length=16)),
                ('vars', fields.TextField(default='{}', unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'bot_session', 'app': 'wagate', 'unique_together': (('conversation_id', 'flow'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BotUsage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('conversation_id', fields.CharField(max_length=40)),
                ('provider', fields.CharField(max_length=32)),
                ('model', fields.CharField(max_length=128)),
                ('tokens_in', fields.IntField(default=0)),
                ('tokens_out', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'bot_usage', 'app': 'wagate', 'indexes': [Index(fields=['tenant_id', 'created_at']), Index(fields=['conversation_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
