from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('wagate', '0005_meta')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BotDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('bot', fields.CharField(max_length=128)),
                ('delivery_id', fields.CharField(max_length=40)),
                ('conversation_id', fields.CharField(max_length=40)),
                ('payload', fields.BinaryField()),
                ('state', fields.CharField(default='pending', max_length=16)),
                ('attempt', fields.IntField(default=0)),
                ('reply', fields.BinaryField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('held_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'bot_delivery', 'app': 'wagate', 'unique_together': (('tenant_id', 'bot', 'delivery_id'),), 'indexes': [Index(fields=['tenant_id', 'bot', 'state']), Index(fields=['state', 'held_until'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BotStream',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('stream_id', fields.CharField(unique=True, max_length=40)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=128)),
                ('priority', fields.IntField(default=0)),
                ('channels', fields.TextField(default='[]', unique=False)),
                ('connected_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'bot_stream', 'app': 'wagate', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
