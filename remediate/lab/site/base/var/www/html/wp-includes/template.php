<?php
/**
 * WordPress-like lab stub for wp-includes/template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'template.php';
