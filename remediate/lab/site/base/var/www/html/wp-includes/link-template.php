<?php
/**
 * WordPress-like lab stub for wp-includes/link-template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'link-template.php';
