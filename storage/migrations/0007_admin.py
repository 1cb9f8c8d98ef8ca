from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('wagate', '0006_remote_bots')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AdminApiKey',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'admin_api_key', 'app': 'wagate', 'indexes': [Index(fields=['tenant_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AdminAudit',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=64)),
                ('action', fields.CharField(max_length=64)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('target', fields.CharField(default='', max_length=256)),
                ('details', fields.TextField(default='{}', unique=False)),
            ],
            options={'table': 'admin_audit', 'app': 'wagate', 'indexes': [Index(fields=['tenant_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AdminChannel',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('provider', fields.CharField(max_length=64)),
                ('route', fields.CharField(null=True, max_length=256)),
                ('config', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'admin_channel', 'app': 'wagate', 'unique_together': (('provider', 'route'),), 'indexes': [Index(fields=['tenant_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AdminTenant',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.BigIntField(default=0)),
                ('bots', fields.TextField(default='', unique=False)),
                ('timezone', fields.CharField(default='UTC', max_length=64)),
            ],
            options={'table': 'admin_tenant', 'app': 'wagate', 'indexes': [Index(fields=['version'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AdminVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.BigIntField(default=0)),
            ],
            options={'table': 'admin_version', 'app': 'wagate', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
