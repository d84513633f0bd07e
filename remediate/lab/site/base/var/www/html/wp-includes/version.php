<?php
/**
 * WordPress Version
 *
 * Contains version information for the current WordPress release.
 *
 * @package WordPress
 * @since 1.2.0
 */

$GLOBALS['wp_lab_loaded'][] = 'version.php';

$wp_version = '6.5.5';
$wp_db_version = 57155;
$tinymce_version = '49110-20201110';
$required_php_version = '7.0.0';
$required_mysql_version = '5.5.5';
