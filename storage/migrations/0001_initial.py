from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Contact',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('channel_id', fields.CharField(max_length=128)),
                ('key', fields.CharField(max_length=300)),
                ('wa_id', fields.CharField(default='', max_length=64)),
                ('user_id', fields.CharField(default='', max_length=300)),
                ('name', fields.CharField(default='', max_length=256)),
                ('username', fields.CharField(default='', max_length=256)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'contact', 'app': 'wagate', 'unique_together': (('channel_id', 'key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('seq', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('id', fields.CharField(unique=True, max_length=40)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('channel_id', fields.CharField(max_length=128)),
                ('contact', fields.ForeignKeyField('wagate.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.CASCADE)),
                ('last_message_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'conversation', 'app': 'wagate', 'unique_together': (('channel_id', 'contact_id'),), 'indexes': [Index(fields=['tenant_id', 'last_message_at'])], 'pk_attr': 'seq'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EventLog',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('channel_id', fields.CharField(max_length=128)),
                ('conversation_id', fields.CharField(default='', max_length=40)),
                ('kind', fields.SmallIntField()),
                ('payload', fields.BinaryField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'event_log', 'app': 'wagate', 'indexes': [Index(fields=['tenant_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Message',
            fields=[
                ('seq', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('id', fields.CharField(unique=True, max_length=40)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('channel_id', fields.CharField(max_length=128)),
                ('conversation_id', fields.CharField(db_index=True, max_length=40)),
                ('provider', fields.CharField(max_length=64)),
                ('provider_message_id', fields.CharField(null=True, max_length=256)),
                ('direction', fields.SmallIntField()),
                ('status', fields.SmallIntField()),
                ('content_type', fields.CharField(max_length=32)),
                ('idempotency_key', fields.CharField(null=True, max_length=256)),
                ('payload', fields.BinaryField()),
                ('to', fields.CharField(default='', max_length=300)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'message', 'app': 'wagate', 'unique_together': (('channel_id', 'provider_message_id'), ('tenant_id', 'idempotency_key')), 'pk_attr': 'seq'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatusEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel_id', fields.CharField(max_length=128)),
                ('provider_message_id', fields.CharField(max_length=256)),
                ('status', fields.SmallIntField()),
                ('payload', fields.BinaryField()),
                ('applied', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'status_event', 'app': 'wagate', 'unique_together': (('channel_id', 'provider_message_id', 'status'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tenant',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tenant', 'app': 'wagate', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('wagate.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
            ],
            options={'table': 'api_key', 'app': 'wagate', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Channel',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ('tenant', fields.ForeignKeyField('wagate.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='channels', on_delete=OnDelete.CASCADE)),
                ('provider', fields.CharField(max_length=64)),
            ],
            options={'table': 'channel', 'app': 'wagate', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookInbox',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel_id', fields.CharField(max_length=128)),
                ('provider', fields.CharField(max_length=64)),
                ('dedup_key', fields.CharField(max_length=64)),
                ('body', fields.BinaryField()),
                ('events', fields.BinaryField()),
                ('state', fields.CharField(default='pending', db_index=True, max_length=16)),
                ('error', fields.TextField(null=True, unique=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_inbox', 'app': 'wagate', 'unique_together': (('channel_id', 'dedup_key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
